{
  "type": "sealdrop-revocation",
  "version": 1,
  "revocation": {
    "revocation": {
      "version": 1,
      "deployment": "demo",
      "header_digest": "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a",
      "consent": "17172036ba3f5973b9962c4a3e2c5b45ea54541dbb678604302cd462c31b2247",
      "date": "2026-11-30",
      "nonce": "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
    },
    "signature": {
      "sig": "IHu2G+f4wHeMwmw0vS/Dlq6vyLXfjbO221IdWvfLCLqHHDKtIyu2husCdoMZFBJuNWFtSiwSeWWHZgE494GaCQ=="
    }
  }
}
