"""Publishing to the Power Platform: Microsoft sign-in (MSAL), the Power Apps API client, the
publish plan and its execution, the redirect-URL check at DocuSign, and carrying a rotated
secret to every published connector. Never imports Textual or rich; msal, httpx and ssl are
imported inside the functions that need them."""
