"""SQL implementations of the storage ports, one module per aggregate."""
