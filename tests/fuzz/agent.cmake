# llavero-agent's outside input: native messaging frames and request JSON
# (tests/fuzz/fuzz_native_messaging.c). Seeds in corpus/fuzz_native_messaging.
llavero_fuzz_target(fuzz_native_messaging
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_native_messaging.c LIBS llavero_agent_core)
