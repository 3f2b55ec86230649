"""The review desk: server-rendered pages under /desk for experts, providers and every role.

Pages call the same services as the API and the CLI with the signed-in `Caller`, so
roles and organisation scoping are the services' own; they work without JavaScript.
"""

from fastapi import APIRouter

from api.desk import auth, browser, expert, provider

router = APIRouter()
router.include_router(expert.router)
router.include_router(browser.router)
router.include_router(provider.router)
router.include_router(auth.router)  # last: its catch-all answers unknown desk paths
