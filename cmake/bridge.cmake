# The ZeroMQ bridge (docs/bridge.md): the library zerobuffer::bridge (target zerobuffer_bridge)
# and the program zerobuffer-bridge. An optional component: built only when libzmq is found
# through pkg-config, so that the core library never depends on ZeroMQ. Included from the top
# level after the core target is defined.
find_package(PkgConfig QUIET)
set(ZEROBUFFER_BRIDGE_AVAILABLE OFF)
if(PkgConfig_FOUND)
  pkg_check_modules(ZEROBUFFER_ZMQ QUIET IMPORTED_TARGET libzmq)
  if(ZEROBUFFER_ZMQ_FOUND)
    set(ZEROBUFFER_BRIDGE_AVAILABLE ON)
  endif()
endif()
if(ZEROBUFFER_MASTER_PROJECT AND ZEROBUFFER_BRIDGE_AVAILABLE)
  set(zerobuffer_bridge_default ON)
else()
  set(zerobuffer_bridge_default OFF)
endif()
option(ZEROBUFFER_BUILD_BRIDGE "Build the ZeroMQ bridge (needs libzmq, Debian: libzmq3-dev)" ${zerobuffer_bridge_default})
if(NOT ZEROBUFFER_BUILD_BRIDGE)
  return()
endif()
if(NOT ZEROBUFFER_BRIDGE_AVAILABLE)
  message(FATAL_ERROR "ZEROBUFFER_BUILD_BRIDGE is ON but pkg-config cannot find libzmq "
                      "(Debian: apt-get install libzmq3-dev; scripts/setup.sh installs it)")
endif()

add_library(zerobuffer_bridge
  src/bridge/curve_keys.cpp
  src/bridge/endpoint.cpp
  src/bridge/frame_pool.cpp
  src/bridge/options.cpp
  src/bridge/receiver.cpp
  src/bridge/receiver_local.cpp
  src/bridge/receiver_topic.cpp
  src/bridge/local_source.cpp
  src/bridge/receiver_streams.cpp
  src/bridge/sender.cpp
  src/bridge/sender_peers.cpp
  src/bridge/socket_setup.cpp
  src/bridge/stats.cpp
  src/bridge/wire.cpp
  src/bridge/zap_handler.cpp
  src/bridge/zmq_handles.cpp)
add_library(zerobuffer::bridge ALIAS zerobuffer_bridge)
target_compile_features(zerobuffer_bridge PUBLIC cxx_std_20)
set_target_properties(zerobuffer_bridge PROPERTIES
  CXX_EXTENSIONS OFF
  POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  EXPORT_NAME bridge
  OUTPUT_NAME zerobuffer_bridge)
# Its own export macro (ZEROBUFFER_BRIDGE_API), generated like the core's zerobuffer/export.h.
generate_export_header(zerobuffer_bridge
  BASE_NAME ZEROBUFFER_BRIDGE
  EXPORT_MACRO_NAME ZEROBUFFER_BRIDGE_API
  EXPORT_FILE_NAME ${ZEROBUFFER_GENERATED_INCLUDE}/zerobuffer/bridge_export.h)
if(NOT BUILD_SHARED_LIBS)
  target_compile_definitions(zerobuffer_bridge PUBLIC ZEROBUFFER_BRIDGE_STATIC_DEFINE)
endif()
target_include_directories(zerobuffer_bridge
  PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${ZEROBUFFER_GENERATED_INCLUDE}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
# libzmq is private to the bridge's code (no ZeroMQ type in bridge.h); a static bridge still
# carries it in its link interface, which the package config recreates (COMPONENTS bridge).
target_link_libraries(zerobuffer_bridge PUBLIC zerobuffer PRIVATE PkgConfig::ZEROBUFFER_ZMQ)
target_compile_definitions(zerobuffer_bridge PRIVATE FMT_HEADER_ONLY=1)
target_include_directories(zerobuffer_bridge SYSTEM PRIVATE $<TARGET_PROPERTY:fmt::fmt-header-only,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(zerobuffer_bridge PRIVATE ${ZEROBUFFER_WARNING_FLAGS})

# The bridge's private headers, for its in-tree tests and benchmark.
add_library(zerobuffer_bridge_internal INTERFACE)
target_include_directories(zerobuffer_bridge_internal INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(zerobuffer_bridge_internal INTERFACE zerobuffer_bridge PkgConfig::ZEROBUFFER_ZMQ
  fmt::fmt-header-only zerobuffer_warnings)

export(TARGETS zerobuffer_bridge NAMESPACE zerobuffer:: FILE ${CMAKE_CURRENT_BINARY_DIR}/zerobuffer-bridge-targets.cmake)
if(ZEROBUFFER_INSTALL)
  install(TARGETS zerobuffer_bridge EXPORT zerobuffer-bridge-targets COMPONENT bridge
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES include/zerobuffer/bridge.h ${ZEROBUFFER_GENERATED_INCLUDE}/zerobuffer/bridge_export.h
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/zerobuffer COMPONENT bridge)
  install(EXPORT zerobuffer-bridge-targets
    NAMESPACE zerobuffer::
    FILE zerobuffer-bridge-targets.cmake
    DESTINATION ${ZEROBUFFER_CMAKE_DIR}
    COMPONENT bridge)
endif()

# Two network namespaces joined by a veth pair, for the bridge's tests and benchmark.
if(ZEROBUFFER_BUILD_TESTS OR ZEROBUFFER_BUILD_BENCHMARKS)
  add_library(zerobuffer_veth_pair STATIC tests/support/veth_pair.cpp)
  target_include_directories(zerobuffer_veth_pair PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/tests/support)
  target_compile_features(zerobuffer_veth_pair PUBLIC cxx_std_20)
  target_link_libraries(zerobuffer_veth_pair PRIVATE zerobuffer_warnings)
endif()
