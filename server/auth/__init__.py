"""Authentication and authorisation for every API (issue 15): API tokens and OAuth2 bearer JWTs, scopes per
API and verb, roles as named bundles of scopes.

connexion checks credentials from each served document's ``securitySchemes`` (``server.auth.security``
holds the info functions they name); ``server.auth.state.AuthState`` is the per-process part (server
secret, verified-token cache, JWKS, failure counter). Modules:

- ``settings``: the environment variables and the scope and role tables;
- ``models``: ``api_token`` and ``auth_failure`` tables;
- ``tokens``: create, list, revoke and verify API tokens (HMAC-SHA256 with the server secret);
- ``jwt``: JWKS (file or URL, refreshed in the background) and JWT verification (joserfc);
- ``state``: the verified-token cache and the failed-attempt counter;
- ``security``: connexion's ``x-tokenInfoFunc`` / ``x-apikeyInfoFunc`` and the identity middleware;
- ``api``: ``/provisio/auth/v1/token``; ``cli``: ``provisio token ...``; ``hub_gate``: hub deliveries.

Kept import-light: ``server.settings`` imports ``server.auth.settings``.
"""
