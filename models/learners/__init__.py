"""What the non-probabilistic learners minimise: losses, k-means inertia, kernels (plain JAX)."""
