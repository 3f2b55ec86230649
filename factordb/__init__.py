"""factordb core: settings, database, tables, domain errors and pure helpers.

Kept free of heavy imports so `import calculator` stays light.
"""

__version__ = "0.1.0"
