"""Entry point of the frozen `wan2.2-turbo` executable (see packaging/wan.spec)."""

import sys

from launcher.cli import main

if __name__ == "__main__":
    sys.exit(main())
