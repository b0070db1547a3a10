"""The sandbox Amazon: Seller Central (sign-in, consent, settings pages), LWA and the Sellers API."""
