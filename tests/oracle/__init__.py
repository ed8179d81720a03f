"""An independent reference simulator and falsification campaign for `kalc-formal check`.

Nothing here imports the counting model (model/encode, model/simulator, model/flowmodel, analysis/flows,
analysis/keyclasses, coredns/server). It reads only what a generated cluster is (spec.py) and
uses the client resolver model (kalc_formal.clients.resolver), which is checked against
the real glibc, musl and Go resolvers.
"""
