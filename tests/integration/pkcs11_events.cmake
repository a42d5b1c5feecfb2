find_package(Threads REQUIRED)
# Card removal, pcscd restart, C_WaitForSlotEvent, C_Finalize waking a
# waiter, fork: p11-events (pkcs11_events.c) drives llavero-pkcs11.so.
add_executable(p11-events ${CMAKE_CURRENT_SOURCE_DIR}/pkcs11_events.c)
target_include_directories(p11-events PRIVATE ${P11KIT_INCLUDE_DIRS})
target_link_libraries(p11-events PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
llavero_integration_test(pkcs11_events pkcs11_events.sh TIMEOUT 200)
