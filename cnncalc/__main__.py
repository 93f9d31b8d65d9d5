"""`python -m cnncalc` runs the same command line as `cnncalc`."""

from cnncalc.cli.entry import main

if __name__ == "__main__":
    main()
