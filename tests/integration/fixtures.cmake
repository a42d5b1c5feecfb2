# Test fixture generator (tests/fixtures/gen-fixtures.sh): SAT-shaped
# e.firma/CSD/EC identities from a local test CA, checked against SAT's files.
llavero_integration_test(fixtures fixtures/test-fixtures.sh TIMEOUT 120)
