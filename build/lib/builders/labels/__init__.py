"""Label algorithms that builders derive labels with and models evaluate with: kernel temporal
segmentation (kts), the 0/1 knapsack and keyshot summaries (knapsack, keyshots)."""
