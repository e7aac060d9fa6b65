"""`python -m devstack run` (what `make run` calls)."""

import sys

from devstack.run import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        print("usage: python -m devstack run", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
