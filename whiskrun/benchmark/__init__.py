"""`whiskrun bench`: every start path forced on purpose on real containers,
next to the raw primitives, interleaved so that machine drift hits all alike."""
