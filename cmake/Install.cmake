# The installable library: one libcairn (static and shared) bundling every library an embedding
# application needs, the public headers, cairnd and cairn, a CMake package (find_package(cairn) ->
# cairn::cairn) and cairn.pc for pkg-config. docs/embedding.md is the user's side of this file.
#
# In the build tree, cairn stays split into the small libraries tests link (cairn, cairn_node, ...); an
# installer gets one library instead, built from the same object files, so nothing is compiled twice.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The SONAME major: the C ABI's version (include/cairn/cairn.h says it once; read it from there).
file(STRINGS "${PROJECT_SOURCE_DIR}/include/cairn/cairn.h" cairn_abi_line REGEX "^#define CAIRN_ABI_VERSION [0-9]+$")
string(REGEX REPLACE "^#define CAIRN_ABI_VERSION " "" CAIRN_ABI_VERSION "${cairn_abi_line}")

# Every library of the build tree an application may need (not the simulator, the daemon's config or
# the test support). Their objects must be position-independent to go into the shared library.
set(cairn_bundled_targets
  cairn cairn_schema cairn_client_protocol cairn_net cairn_gossip cairn_transport cairn_http cairn_metrics
  cairn_server cairn_resp cairn_resp_listener cairn_client cairn_node cairn_capi)
set_target_properties(${cairn_bundled_targets} PROPERTIES POSITION_INDEPENDENT_CODE ON)
set(cairn_bundled_objects "")
foreach(bundled IN LISTS cairn_bundled_targets)
  list(APPEND cairn_bundled_objects "$<TARGET_OBJECTS:${bundled}>")
endforeach()

# The libraries the bundled objects call. A shared libcairn records them itself; a static one passes them
# on to the application's link (cairnConfig.cmake and cairn.pc's *.private lines name the same list).
set(cairn_bundle_private_libraries
  CapnProto::capnp PkgConfig::LIBUV PkgConfig::LMDB PkgConfig::SODIUM PkgConfig::XXHASH http_parser::http_parser)

function(cairn_add_bundle target type export_name)
  add_library(${target} ${type} ${cairn_bundled_objects})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME cairn
    EXPORT_NAME ${export_name}
    LINKER_LANGUAGE CXX
    ARCHIVE_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib"
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib")
  target_include_directories(${target} INTERFACE
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>" "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  # The public C++ headers use tl::expected (cairn/status.h).
  target_link_libraries(${target}
    INTERFACE "$<BUILD_INTERFACE:tl_expected>" "$<INSTALL_INTERFACE:tl::expected>"
    PUBLIC Threads::Threads
    PRIVATE ${cairn_bundle_private_libraries})
endfunction()

cairn_add_bundle(cairn_shared SHARED shared)
# libcairn.so.<release> with SONAME libcairn.so.<C ABI major>: a program built against one ABI major runs
# with every later release of it (docs/embedding.md, "ABI policy").
set_target_properties(cairn_shared PROPERTIES VERSION "${PROJECT_VERSION}" SOVERSION "${CAIRN_ABI_VERSION}")
# A library added to the tree and called by a bundled one, but missing from cairn_bundled_targets, would
# leave libcairn.so with undefined symbols that only an application's link reports: fail here instead.
target_link_options(cairn_shared PRIVATE "LINKER:--no-undefined")
cairn_add_bundle(cairn_static STATIC static)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/cairn" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h")
install(TARGETS cairn_shared EXPORT cairnSharedTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" NAMELINK_COMPONENT Development)
install(TARGETS cairn_static EXPORT cairnStaticTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(TARGETS cairnd cairn_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

set(cairn_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/cairn")
install(EXPORT cairnSharedTargets NAMESPACE cairn:: DESTINATION "${cairn_cmake_dir}")
install(EXPORT cairnStaticTargets NAMESPACE cairn:: DESTINATION "${cairn_cmake_dir}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/cairnConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/generated/cairnConfig.cmake" INSTALL_DESTINATION "${cairn_cmake_dir}")
# Before 1.0 a minor release may change the C++ API, so only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/generated/cairnConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/generated/cairnConfig.cmake" "${PROJECT_BINARY_DIR}/generated/cairnConfigVersion.cmake"
  DESTINATION "${cairn_cmake_dir}")

# cairn.pc finds its prefix from its own place (${pcfiledir}), so `cmake --install --prefix P` works for
# any P without reconfiguring.
file(RELATIVE_PATH cairn_pc_to_prefix "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file("${PROJECT_SOURCE_DIR}/cmake/cairn.pc.in" "${PROJECT_BINARY_DIR}/generated/cairn.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/generated/cairn.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
