"""One router per area; each route parses, authorises, calls one service, renders."""
