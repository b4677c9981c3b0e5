"""Second step of the `words` sequence: it receives split's result as its
parameters, so `words` arrives as a list (see split.js for the commands)."""


def main(args):
    words = sorted(args.get("words", []))
    print(f"sorted {len(words)} words")
    return {"words": words, "count": len(words)}
