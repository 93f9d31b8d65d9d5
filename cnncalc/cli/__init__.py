"""The `cnncalc` command line (typer); one module per command."""
