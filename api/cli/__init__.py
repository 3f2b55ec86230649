"""The `factordb` command line (Typer); heavy libraries are imported inside commands."""
