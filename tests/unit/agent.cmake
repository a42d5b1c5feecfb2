# llavero-agent pieces: native messaging framing, origin rules, Assuan
# escaping, request handling without tokens, config parsing.
llavero_unit_test(test_agent
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent/test_agent.c
  LIBS llavero_agent_core)
target_compile_definitions(test_agent PRIVATE LLAVERO_VERSION="${PROJECT_VERSION}")
