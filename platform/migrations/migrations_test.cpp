#include "platform/migrations/migrations.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "platform/core/crypto.hpp"

namespace clinicore::migrations {
namespace {

namespace fs = std::filesystem;

class MigrationDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("clinicore-mig-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& content) { std::ofstream(dir_ / name) << content; }

  fs::path dir_;
};

TEST_F(MigrationDirTest, LoadsInVersionOrderWithChecksums) {
  Write("0002_second.sql", "SELECT 2;");
  Write("0001_first.sql", "SELECT 1;");
  Write("README.md", "ignored");
  auto files = LoadMigrationDir(dir_.string());
  ASSERT_TRUE(files.ok()) << files.error().detail;
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].file_name, "0001_first.sql");
  EXPECT_EQ((*files)[1].version, 2);
  EXPECT_EQ((*files)[0].checksum, core::Sha256Hex("SELECT 1;"));
  EXPECT_EQ((*files)[0].checksum.size(), 64u);
}

TEST_F(MigrationDirTest, RefusesBadNamesAndDuplicateVersions) {
  Write("1_bad.sql", "");
  auto bad = LoadMigrationDir(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("1_bad.sql"), std::string::npos);
  fs::remove(dir_ / "1_bad.sql");
  Write("0001_a.sql", "");
  Write("0001_b.sql", "");
  auto duplicate = LoadMigrationDir(dir_.string());
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().detail.find("share version 0001"), std::string::npos);
}

TEST(MigrationConsistencyTest, NamesAnEditedFile) {
  std::vector<MigrationFile> files = {{1, "0001_a.sql", "SELECT 1;", core::Sha256Hex("SELECT 1;")}};
  std::vector<AppliedMigration> applied = {{1, "0001_a.sql", core::Sha256Hex("SELECT 0;")}};
  auto error = CheckConsistency(applied, files);
  ASSERT_TRUE(error);
  EXPECT_NE(error->detail.find("0001_a.sql was edited"), std::string::npos) << error->detail;
  applied[0].checksum = files[0].checksum;
  EXPECT_FALSE(CheckConsistency(applied, files));
  applied.push_back({2, "0002_gone.sql", "x"});
  EXPECT_TRUE(CheckConsistency(applied, files));
}

}  // namespace
}  // namespace clinicore::migrations
