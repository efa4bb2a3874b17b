// ChunkWriter: the fixed-size /tasks columns written a whole chunk at a time from buffers of
// its own. Checked by reading the file back with H5Dread, against a plain array of what each
// row should hold: rows in any order, more chunks in flight than buffers, the chunk at the
// end shorter than the others, a second writer on the same file (a resume), and columns that
// cannot be written as raw chunks (compressed, big-endian), which take H5Dwrite.
#include <cstdint>
#include <gtest/gtest.h>
#include <optional>
#include <random>
#include <vector>

#include "store/chunk_writer.hpp"
#include "unit/store_support.hpp"

namespace mpisweep::store {
namespace {

using store_test::TempDir;

struct Layout {
    const char* name;
    bool big_endian;
    bool deflate;
};

class ChunkWriterTest : public ::testing::TestWithParam<Layout> {
protected:
    // 9.5 chunks of 2^18 rows: 2 MiB of doubles a chunk, so only 4 buffers fit.
    static constexpr std::uint64_t kChunkRows = std::uint64_t{1} << 18;
    static constexpr std::uint64_t kRows = 9 * kChunkRows + kChunkRows / 2;
    static constexpr double kFill = -1.5;

    h5::File create_file(const std::string& path) {
        h5::File file(H5_CHECK(H5Fcreate, path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
        hsize_t dims[1] = {kRows};
        hsize_t chunk[1] = {kChunkRows};
        h5::Dataspace space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
        h5::PropList creation(H5_CHECK(H5Pcreate, H5P_DATASET_CREATE));
        H5_CHECK(H5Pset_chunk, creation.get(), 1, chunk);
        H5_CHECK(H5Pset_fill_value, creation.get(), H5T_NATIVE_DOUBLE, &kFill);
        H5_CHECK(H5Pset_alloc_time, creation.get(), H5D_ALLOC_TIME_INCR);
        if (GetParam().deflate) H5_CHECK(H5Pset_deflate, creation.get(), 1);
        h5::Dataset(H5_CHECK(H5Dcreate2, file.get(), "column",
                             GetParam().big_endian ? H5T_IEEE_F64BE : H5T_IEEE_F64LE, space.get(),
                             H5P_DEFAULT, creation.get(), H5P_DEFAULT));
        return file;
    }

    // Opens the file (made first when `fresh`) and hands `use` a writer of its column and the
    // dataset; both are closed when it returns.
    template <class Use>
    void with_writer(bool fresh, Use use) {
        h5::File file = fresh ? create_file(path_)
                              : h5::File(H5_CHECK(H5Fopen, path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
        h5::Dataset dataset(H5_CHECK(H5Dopen2, file.get(), "column", H5P_DEFAULT));
        ChunkWriter writer(dataset.get(), H5T_NATIVE_DOUBLE, kRows);
        use(writer, dataset.get());
    }

    std::vector<double> read_back() const {
        h5::File file(H5_CHECK(H5Fopen, path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        h5::Dataset dataset(H5_CHECK(H5Dopen2, file.get(), "column", H5P_DEFAULT));
        std::vector<double> values(kRows);
        H5_CHECK(H5Dread, dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        return values;
    }

    // Puts `rows` runs of consecutive rows at random places (each run may cross a chunk's
    // end), in one call, recording the expected values.
    void put_runs(ChunkWriter& writer, std::size_t runs, std::vector<double>& expected) {
        std::vector<unsigned long long> ids;
        std::vector<double> values;
        for (std::size_t r = 0; r < runs; ++r) {
            const std::uint64_t first = random_() % kRows;
            const std::uint64_t length = 1 + random_() % 300;
            for (std::uint64_t id = first; id < std::min(kRows, first + length); ++id) {
                ids.push_back(id);
                values.push_back(static_cast<double>(random_() % 1000000) / 8.0);
            }
        }
        for (std::size_t i = 0; i < ids.size(); ++i) expected[ids[i]] = values[i];  // the last wins
        writer.put(ids.data(), values.data(), ids.size());
    }

    TempDir dir_;
    std::string path_ = dir_.file("chunks.h5");
    std::mt19937_64 random_{12345};
};

TEST_P(ChunkWriterTest, EveryRowHoldsItsLastValueOrTheFillValueAfterWritesInAnyOrder) {
    std::vector<double> expected(kRows, kFill);
    with_writer(true, [&](ChunkWriter& writer, hid_t) {
        EXPECT_EQ(writer.raw_chunks(), !GetParam().deflate && !GetParam().big_endian);
        for (int flush = 0; flush < 3; ++flush) {
            put_runs(writer, 40, expected);  // ~10 chunks touched by each: more than its buffers
            writer.write();
        }
        // The last row of the short chunk at the end, alone.
        const unsigned long long last = kRows - 1;
        const double value = 7.25;
        writer.put(&last, &value, 1);
        expected[last] = value;
        writer.write();
    });
    EXPECT_EQ(read_back(), expected);
}

TEST_P(ChunkWriterTest, ASecondWriterOnTheFileKeepsWhatTheFirstWrote) {
    std::vector<double> expected(kRows, kFill);
    for (const bool fresh : {true, false}) {
        with_writer(fresh, [&](ChunkWriter& writer, hid_t) {
            put_runs(writer, 60, expected);
            writer.write();
        });
    }
    EXPECT_EQ(read_back(), expected);
}

TEST_P(ChunkWriterTest, NothingPutWritesNothing) {
    with_writer(true, [&](ChunkWriter& writer, hid_t dataset) {
        writer.write();
        const hsize_t stored = H5_CHECK(H5Dget_storage_size, dataset);
        EXPECT_EQ(stored, 0u);
    });
    EXPECT_EQ(read_back(), std::vector<double>(kRows, kFill));
}

TEST_P(ChunkWriterTest, ChunksOfFillValuesAreLeftUnwrittenUntilAValueDiffers) {
    // Most sweeps run on CPUs and exit 0: /tasks/device and /tasks/exit_code hold their fill
    // value in every row. A chunk the file never held reads as the fill value.
    std::vector<double> expected(kRows, kFill);
    std::vector<unsigned long long> ids(kChunkRows + 10);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = 2 * kChunkRows + i;  // chunk 2, into 3
    const std::vector<double> fills(ids.size(), kFill);
    with_writer(true, [&](ChunkWriter& writer, hid_t dataset) {
        writer.put(ids.data(), fills.data(), ids.size());
        writer.write();
        if (writer.raw_chunks()) {
            EXPECT_EQ(H5_CHECK(H5Dget_storage_size, dataset), 0u);
        }
        const unsigned long long row = 3 * kChunkRows + 5;
        const double value = 2.5;
        writer.put(&row, &value, 1);
        expected[row] = value;
        writer.write();
        if (writer.raw_chunks()) {
            EXPECT_EQ(H5_CHECK(H5Dget_storage_size, dataset), kChunkRows * sizeof(double)) << "chunk 3 only";
        }
    });
    EXPECT_EQ(read_back(), expected);
    // A chunk the file holds is written whatever it holds: its old values must go.
    with_writer(false, [&](ChunkWriter& writer, hid_t) {
        const unsigned long long row = 3 * kChunkRows + 5;
        writer.put(&row, &kFill, 1);
        expected[row] = kFill;
        writer.write();
    });
    EXPECT_EQ(read_back(), expected);
}

TEST_P(ChunkWriterTest, AChunkStillFillingIsHeldThroughTwoWritesAndAQuietOneGoesAtOnce) {
    std::vector<double> expected(kRows, kFill);
    auto put = [&](unsigned long long row, ChunkWriter& writer) {
        const double value = static_cast<double>(row) / 4;
        writer.put(&row, &value, 1);
        expected[row] = value;
    };
    with_writer(true, [&](ChunkWriter& writer, hid_t dataset) {
        auto stored = [&] { return H5_CHECK(H5Dget_storage_size, dataset) / (kChunkRows * sizeof(double)); };
        put(5, writer);
        writer.write_filled(0);  // generation 0: chunk 0 changed, held
        EXPECT_EQ(writer.oldest_held(), std::optional<std::uint64_t>(0));
        writer.write_filled(1);  // 1: not changed since: written
        EXPECT_EQ(writer.oldest_held(), std::nullopt);
        if (writer.raw_chunks()) {
            EXPECT_EQ(stored(), 1u);
        }
        for (std::uint64_t generation = 2; generation <= 4; ++generation) {
            put(kChunkRows + generation, writer);              // chunk 1 changes in every generation
            if (generation == 3) put(2 * kChunkRows, writer);  // chunk 2 once
            writer.write_filled(generation);                   // tagged with its generation
            if (generation < 4) {
                EXPECT_EQ(writer.oldest_held(), std::optional<std::uint64_t>(2)) << generation;
                if (writer.raw_chunks()) {
                    EXPECT_EQ(stored(), 1u) << generation;
                }
            }
        }
        // Generation 4: chunk 1, held through 2 and 3, is written; chunk 2 was quiet.
        EXPECT_EQ(writer.oldest_held(), std::nullopt);
        if (writer.raw_chunks()) {
            EXPECT_EQ(stored(), 3u);
        }
    });
    EXPECT_EQ(read_back(), expected);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ChunkWriterTest,
                         ::testing::Values(Layout{"raw", false, false}, Layout{"deflated", false, true},
                                           Layout{"bigendian", true, false}),
                         [](const auto& layout) { return std::string(layout.param.name); });

}  // namespace
}  // namespace mpisweep::store
