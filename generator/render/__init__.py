"""Every output family, each a pure function of the build's inputs: pages, feeds, APIs, badges."""
