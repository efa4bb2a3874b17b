#pragma once
// Reading a results file back in tests, with the plain HDF5 C API (what a user's own reader
// would do), independent of the store's code.
#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

class H5File {
public:
    explicit H5File(const std::string& path) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id_ < 0) throw std::runtime_error("cannot open " + path);
    }
    ~H5File() {
        if (id_ >= 0) H5Fclose(id_);
    }
    H5File(const H5File&) = delete;
    H5File& operator=(const H5File&) = delete;

    bool exists(const std::string& name) const {
        // Check each component so a missing group is "false", not an error.
        std::string prefix;
        std::size_t pos = 0;
        while (pos != std::string::npos) {
            pos = name.find('/', pos + 1);
            prefix = name.substr(0, pos);
            if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        }
        return true;
    }

    template <class T>
    std::vector<T> read(const std::string& name, hid_t mem_type) const {
        hid_t ds = open(name);
        hid_t space = H5Dget_space(ds);
        const auto n = H5Sget_simple_extent_npoints(space);
        std::vector<T> out(static_cast<std::size_t>(n));
        const herr_t status = n > 0 ? H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) : 0;
        H5Sclose(space);
        H5Dclose(ds);
        if (status < 0) throw std::runtime_error("cannot read " + name);
        return out;
    }
    std::vector<double> doubles(const std::string& name) const {
        return read<double>(name, H5T_NATIVE_DOUBLE);
    }
    std::vector<long long> ints(const std::string& name) const {
        return read<long long>(name, H5T_NATIVE_LLONG);
    }

    std::vector<std::string> strings(const std::string& name) const {
        hid_t ds = open(name);
        hid_t space = H5Dget_space(ds);
        const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
        hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        H5Tset_cset(type, H5T_CSET_UTF8);
        std::vector<char*> raw(n, nullptr);
        const herr_t status = n > 0 ? H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) : 0;
        std::vector<std::string> out;
        for (char* s : raw) out.emplace_back(s ? s : "");
        if (n > 0 && status >= 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
        H5Tclose(type);
        H5Sclose(space);
        H5Dclose(ds);
        if (status < 0) throw std::runtime_error("cannot read strings " + name);
        return out;
    }

    std::string string_attribute(const std::string& name) const {
        hid_t attr = H5Aopen(id_, name.c_str(), H5P_DEFAULT);
        if (attr < 0) throw std::runtime_error("no attribute " + name);
        hid_t type = H5Aget_type(attr);
        std::string out;
        if (H5Tis_variable_str(type) > 0) {
            char* s = nullptr;
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Aread(attr, mem, &s);
            out = s ? s : "";
            H5free_memory(s);
            H5Tclose(mem);
        } else {
            out.resize(H5Tget_size(type));
            H5Aread(attr, type, out.data());
            out = out.c_str();
        }
        H5Tclose(type);
        H5Aclose(attr);
        return out;
    }

private:
    hid_t open(const std::string& name) const {
        hid_t ds = H5Dopen2(id_, name.c_str(), H5P_DEFAULT);
        if (ds < 0) throw std::runtime_error("no dataset " + name);
        return ds;
    }
    hid_t id_ = -1;
};

}  // namespace test_support
