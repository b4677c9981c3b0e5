"""An action whose initialisation is expensive, as real ones are (imports,
models, lookup tables): about a second and about 100 MB at import, then
fast activations. Deploy: wsk action create heavy heavy_init.py -m 512

It is the worst case for a cold start and the best case for a restore from
a snapshot, which skips the import entirely.
"""

import hashlib
import time



def _digest(number: int) -> str:
    data = str(number).encode()
    for _ in range(4):  # stands in for real work: parsing, decoding, fitting
        data = hashlib.sha256(data).digest()
    return data.hex()


_started = time.monotonic()
# A lookup table built at import: about 100 MB of Python objects.
TABLE = {i: _digest(i) for i in range(600_000)}
INIT_SECONDS = round(time.monotonic() - _started, 3)


def main(args):
    key = int(args.get("key", 42))
    return {"key": key, "digest": TABLE.get(key), "entries": len(TABLE), "init_seconds": INIT_SECONDS}
