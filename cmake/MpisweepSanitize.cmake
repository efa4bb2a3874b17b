# -DMPISWEEP_SANITIZE=address,undefined (or thread): builds everything of this project with
# those sanitizers. UBSan stops at the first report (a test then fails); ASan's leak checker
# is off by default in the test environment (Open MPI keeps its own allocations at exit;
# scripts/test-sanitized.sh sets the options).
set(MPISWEEP_SANITIZE "" CACHE STRING "Sanitizers to build with: address,undefined or thread (empty: none)")
if(MPISWEEP_SANITIZE)
  string(REPLACE "," ";" _mpisweep_sanitizers "${MPISWEEP_SANITIZE}")
  foreach(_s IN LISTS _mpisweep_sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "MPISWEEP_SANITIZE: unknown sanitizer '${_s}'; expected address,undefined or thread")
    endif()
  endforeach()
  if("thread" IN_LIST _mpisweep_sanitizers AND "address" IN_LIST _mpisweep_sanitizers)
    message(FATAL_ERROR "MPISWEEP_SANITIZE: thread and address cannot be combined; build them separately")
  endif()
  set(_flags -fsanitize=${MPISWEEP_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST _mpisweep_sanitizers)
    list(APPEND _flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_flags}>")
  add_link_options(-fsanitize=${MPISWEEP_SANITIZE})
  message(STATUS "mpisweep: built with -fsanitize=${MPISWEEP_SANITIZE}")
endif()
