"""The invoker: places each activation on a container (cold, prewarm, warm,
unpause) and records which path it took, why, and what each phase cost."""
