"""What a run computes (ENGINE.md): the six steps, the allocators and the verifier."""
