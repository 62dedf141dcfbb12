"""Token authentication with failed attempts throttled. (Kept apart from
any view module: DRF imports it while ``rest_framework.views`` loads.)"""

from knox import auth as knox_auth
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from tracker.throttling import AuthFailureThrottle


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's ``Authorization: Token <token>``, with failures counted per
    client address: past ``API_THROTTLE_AUTH_FAILURES`` a client gets 429
    with ``Retry-After`` for any token, right or wrong, until the window
    ends, so tokens cannot be guessed at the API's full request rate."""

    def authenticate(self, request):
        if not self._sends_token(request):
            return None
        throttle = AuthFailureThrottle()
        if not throttle.attempt(request):
            raise exceptions.Throttled(wait=throttle.wait())
        try:
            result = super().authenticate(request)
        except UnicodeDecodeError:
            # knox decodes the token as UTF-8; other bytes are no token.
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        throttle.refund(request)  # a valid token: the attempt does not count
        return result

    def _sends_token(self, request) -> bool:
        auth = get_authorization_header(request).split()
        return bool(auth) and auth[0].lower() == self.authenticate_header(request).encode().lower()
