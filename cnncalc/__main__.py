"""`python -m cnncalc` runs the same command line as `cnncalc`."""

from cnncalc.cli.startup import main

if __name__ == "__main__":
    main()
