"""`heliograph import`: read another status page's files into a Heliograph site.

Each source module (`cstate`, `upptime`, `statuspage`, `statusfy`) reads its source into an
`ImportedSite` (`model`), reporting what it cannot carry over as `NotCarried` notes; `writer`
turns an `ImportedSite` into site.yaml, incidents/ and history/, through the same code that
`heliograph incident new/update` uses, so every written file passes the build's own parser.
"""
