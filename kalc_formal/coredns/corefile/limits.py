"""Bounds on what one Corefile parse reads: CoreDNS's own (A16) and ours."""

MAX_SNIPPET_EXPANSIONS = 10_000
"""coredns/caddy parse.go ``maxSnippetExpansions`` (A16)."""
MAX_FILE_EXPANSIONS = 100_000
"""coredns/caddy parse.go ``maxFileExpansions`` (A16)."""
MAX_TOKENS = 1_000_000
"""Bound on the tokens one parse may read after expansion (ours, not CoreDNS's)."""
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Bound on the size of the Corefile and of each imported file (ours)."""
MAX_TOKEN_CHARS = 1024 * 1024
"""Bound on one token's text after environment expansion (ours)."""
MAX_TOTAL_BYTES = MAX_FILE_BYTES
"""Bound on the bytes of the Corefile and all the files it imports together (ours)."""
MAX_BLOCK_DEPTH = 100
"""Bound on blocks nested inside one another (ours; CoreDNS plugins use 2 or 3)."""
