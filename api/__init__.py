"""The edges: the FastAPI app, the review desk and the `factordb` command line."""
