# The Python package: python/mpisweep (pure Python: the reader, the plots, run()'s front) and
# its engine binding mpisweep._engine (src/python, pybind11). MPISWEEP_BUILD_PYTHON is on when
# pybind11 and a Python with its headers are found.
#
# Which Python: Python_EXECUTABLE when given; else the first of `python3` on PATH and
# /usr/bin/python3 that imports numpy (the reader needs numpy, h5py and pandas: a bare python3
# first on PATH, such as a pyenv one, is passed over for the system one that has them).
if(NOT Python_EXECUTABLE)
  find_program(MPISWEEP_PATH_PYTHON NAMES python3)
  foreach(candidate IN ITEMS ${MPISWEEP_PATH_PYTHON} /usr/bin/python3)
    if(EXISTS "${candidate}")
      execute_process(COMMAND "${candidate}" -c "import numpy" RESULT_VARIABLE no_numpy
                      OUTPUT_QUIET ERROR_QUIET)
      if(no_numpy EQUAL 0)
        set(Python_EXECUTABLE "${candidate}" CACHE FILEPATH "The Python the mpisweep package is built for")
        break()
      endif()
    endif()
  endforeach()
endif()
find_package(Python 3.8 COMPONENTS Interpreter Development.Module)
if(Python_FOUND)
  find_package(pybind11 2.6 CONFIG QUIET)
endif()
cmake_dependent_option(MPISWEEP_BUILD_PYTHON "Build the Python package mpisweep (pybind11)" ON
                       "Python_FOUND;pybind11_FOUND" OFF)

# Where `cmake --install` puts the package, relative to the prefix: the folder this Python
# searches under that prefix (lib/python3.X/dist-packages for /usr/local on Debian), else its
# platlib layout there (lib/python3.X/site-packages: add <prefix>/... to PYTHONPATH).
if(MPISWEEP_BUILD_PYTHON AND NOT MPISWEEP_PYTHON_INSTALL_DIR)
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c [=[
import os, sys, sysconfig
prefix = os.path.abspath(sys.argv[1])
for p in sys.path:
    if p.startswith(prefix + os.sep) and os.path.basename(p) in ("dist-packages", "site-packages"):
        print(os.path.relpath(p, prefix)); break
else:
    vars = {"base": prefix, "platbase": prefix}
    print(os.path.relpath(sysconfig.get_path("platlib", "posix_prefix", vars), prefix))
]=] "${CMAKE_INSTALL_PREFIX}"
    OUTPUT_VARIABLE python_dir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed)
  if(failed OR NOT python_dir)
    set(python_dir "${CMAKE_INSTALL_LIBDIR}/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/site-packages")
  endif()
  set(MPISWEEP_PYTHON_INSTALL_DIR "${python_dir}" CACHE STRING
      "Where the Python package is installed, relative to the install prefix")
endif()
if(MPISWEEP_BUILD_PYTHON)
  message(STATUS "mpisweep: Python package for ${Python_EXECUTABLE} (${Python_VERSION}), installed into "
                 "<prefix>/${MPISWEEP_PYTHON_INSTALL_DIR}")
else()
  message(STATUS "mpisweep: Python package not built (needs pybind11 and the Python headers: Debian "
                 "pybind11-dev python3-pybind11 python3-dev)")
endif()
