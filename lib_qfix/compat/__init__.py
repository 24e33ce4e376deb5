"""Small environment fixes for running the core outside A1111."""
