"""Reading the site: site.yaml, incident files, Markdown, and the status model they give."""
