"""The build: read the inputs, decide what is reusable, render, write, save the caches."""
