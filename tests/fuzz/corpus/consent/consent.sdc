{
  "type": "sealdrop-consent",
  "version": 1,
  "consent": {
    "consent": {
      "version": 1,
      "deployment": "demo",
      "header_digest": "94bffae3d6ed758fbace7bb0211b48cb6c2178a96f0568b6a7b8b06ec415626a",
      "scope": "commission",
      "grantee_key": "eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbsia+FpRo=",
      "grantee_key_id": "ce9391590d7a7c13",
      "release_hash": "dc0cfad72666faecb0cf1e8e81298acd5c1b265e0072fde3fbc6a3bb68c2179a",
      "issued": "2026-11-24",
      "expires": "2026-12-24",
      "nonce": "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    },
    "signature": {
      "sig": "uHC7XFd87ezfp5rqd9UjgU7HnFbZWYTf4Z/FN89/IDsPV9iJ0h0prcGW1nhJKn90aBoMbD99WOHkfUdai2yBAQ=="
    }
  },
  "release": "YFpyXSpK3+6xop4X7dYhwbdZPujNvESsbEq24vgF0jwV7n6NWQUriDCdwPrY9b04MLpVjjcPink8pZQd5ZM0Mz5BH887AmD4iZSbXaBBTOI="
}
