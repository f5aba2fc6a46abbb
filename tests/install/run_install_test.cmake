# cmake -P script run by the install.find_package_consumer test.
# Inputs: ZB_BUILD_DIR ZB_CONFIG ZB_CONSUMER_SOURCE ZB_WORK_DIR ZB_GENERATOR ZB_CXX_COMPILER ZB_EXPECT_CLI
foreach(var ZB_BUILD_DIR ZB_CONSUMER_SOURCE ZB_WORK_DIR ZB_GENERATOR)
  if(NOT ${var})
    message(FATAL_ERROR "run_install_test.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT ZB_CONFIG)
  set(ZB_CONFIG Release)
endif()

set(prefix ${ZB_WORK_DIR}/prefix)
set(consumer_build ${ZB_WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${ZB_WORK_DIR})
file(MAKE_DIRECTORY ${ZB_WORK_DIR})

# Runs one step; on failure removes the work directory and fails the test.
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${ZB_WORK_DIR})
    message(FATAL_ERROR "install test: ${what} failed (${rc})\n${out}\n${err}")
  endif()
  message(STATUS "install test: ${what}: ok")
  if(what STREQUAL "run consumer")
    string(STRIP "${out}" out)
    message(STATUS "${out}")
  endif()
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${ZB_BUILD_DIR} --prefix ${prefix} --config ${ZB_CONFIG})

if(NOT EXISTS ${prefix}/include/zerobuffer/reader.h)
  file(REMOVE_RECURSE ${ZB_WORK_DIR})
  message(FATAL_ERROR "install test: headers were not installed")
endif()

# The operations command is installed with the library when the tools are built.
if(ZB_EXPECT_CLI)
  if(NOT EXISTS ${prefix}/bin/zerobuffer)
    file(REMOVE_RECURSE ${ZB_WORK_DIR})
    message(FATAL_ERROR "install test: bin/zerobuffer was not installed")
  endif()
  step("run installed zerobuffer --version" ${prefix}/bin/zerobuffer --version)
endif()

set(compiler_arg)
if(ZB_CXX_COMPILER)
  set(compiler_arg -DCMAKE_CXX_COMPILER=${ZB_CXX_COMPILER})
endif()
step("configure consumer" ${CMAKE_COMMAND} -S ${ZB_CONSUMER_SOURCE} -B ${consumer_build} -G ${ZB_GENERATOR}
     -DCMAKE_BUILD_TYPE=${ZB_CONFIG} -DCMAKE_PREFIX_PATH=${prefix} ${compiler_arg})
step("build consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${ZB_CONFIG})

find_program(app NAMES app PATHS ${consumer_build} ${consumer_build}/${ZB_CONFIG} NO_DEFAULT_PATH NO_CACHE)
if(NOT app)
  file(REMOVE_RECURSE ${ZB_WORK_DIR})
  message(FATAL_ERROR "install test: the consumer binary was not built")
endif()
step("run consumer" ${app})

file(REMOVE_RECURSE ${ZB_WORK_DIR})
