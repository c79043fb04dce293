"""Synthetic sample documents for the sandbox: ID cards, business licences, powers of
attorney, selfies, the request bodies that go with them and a walkthrough script.

A tool beside the service, not part of it: ``kyc-service samples`` loads it by entry point
(``kyc.tools``), like the verifier sandbox. The tests draw their documents with it too.
The face photos in ``faces/`` come from the face_recognition project (MIT License,
copyright Adam Geitgey: see ``faces/LICENSE``).
"""
