"""Tencent Cloud FaceID (人脸核身) adapters: the ``tencent`` identity authority, bank verifier
and portrait authority, over the official SDK (``pip install "kyc-service[tencent]"``).

``codes`` maps every documented result code of each operation to a domain result; ``client``
builds the SDK client and turns its answers and failures into results or outages;
``adapters`` holds the three ports' adapters. Importing this package does not import the SDK.
"""
