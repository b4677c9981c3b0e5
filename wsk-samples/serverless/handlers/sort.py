"""sort: Python 3.11, the sequence's second step: the words of split, sorted."""


def main(params):
    words = sorted(params.get("words", []))
    return {"words": words, "count": len(words)}
