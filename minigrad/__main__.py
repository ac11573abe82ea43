"""python -m minigrad demo"""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print("usage: python -m minigrad demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
