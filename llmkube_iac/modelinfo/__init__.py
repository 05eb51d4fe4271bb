"""What we can know about a model before serving it: where it lives, what it is, whether it fits."""
