# The pcscd + vpcd + llavero-vcard rig itself (tests/harness/pcsc-ns.sh):
# reader and ATR seen by OpenSC, remove/insert, kill -9 during state writes,
# corrupt state files refused.
llavero_integration_test(vcard_harness vcard_harness.sh TIMEOUT 240)
