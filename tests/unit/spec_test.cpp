// Parsing grids from `name[:type]=SPEC` strings and from JSON documents.
#include "mpisweep/spec.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mpisweep {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

std::string spec_error(const std::function<void()>& body) {
    try {
        body();
    } catch (const SpecError& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a SpecError";
    return {};
}

std::vector<Value> values_of(const Axis& axis) {
    std::vector<Value> out;
    for (std::uint64_t i = 0; i < axis.size(); ++i) out.push_back(axis.at(i));
    return out;
}

Value i64(std::int64_t i) {
    return Value(i);
}

// Parsing `text` fails with one line that contains every part.
void expect_axis_error(const std::string& text, const std::vector<std::string>& parts) {
    auto message = spec_error([&] { parse_axis(text); });
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_TRUE(contains(message, part)) << "for " << text;
}

// ---- lists and type inference ----

TEST(SpecList, TypesAreInferredPerAxis) {
    Axis ints = parse_axis("n=1,2,-3,+4");
    EXPECT_EQ(ints.type(), ValueType::Int);
    EXPECT_EQ(values_of(ints), (std::vector<Value>{i64(1), i64(2), i64(-3), i64(4)}));

    Axis floats = parse_axis("lr=0.1,1e-3,10");
    EXPECT_EQ(floats.type(), ValueType::Float);
    EXPECT_EQ(values_of(floats), (std::vector<Value>{0.1, 1e-3, 10.0}));
    EXPECT_EQ(values_of(parse_axis("x=.5,2.,1E2")), (std::vector<Value>{0.5, 2.0, 100.0}));

    Axis bools = parse_axis("flag=true,false");
    EXPECT_EQ(bools.type(), ValueType::Bool);
    EXPECT_EQ(values_of(bools), (std::vector<Value>{true, false}));

    Axis strings = parse_axis("opt=adam,sgd");
    EXPECT_EQ(strings.type(), ValueType::String);
    EXPECT_EQ(values_of(strings), (std::vector<Value>{"adam", "sgd"}));
}

TEST(SpecList, AnythingOutsideTheSmallNumberGrammarIsAString) {
    // 0x10, inf, nan, 1_000 and True are not numbers or bools; one string makes the axis str.
    EXPECT_EQ(values_of(parse_axis("x=0x10,10")), (std::vector<Value>{"0x10", "10"}));
    EXPECT_EQ(parse_axis("x=inf,1").type(), ValueType::String);
    EXPECT_EQ(parse_axis("x=nan").type(), ValueType::String);
    EXPECT_EQ(parse_axis("x=1_000").type(), ValueType::String);
    EXPECT_EQ(parse_axis("x=True,False").type(), ValueType::String);
    EXPECT_EQ(values_of(parse_axis("x=true,1")), (std::vector<Value>{"true", "1"}));
    EXPECT_EQ(values_of(parse_axis("x=1e,2")), (std::vector<Value>{"1e", "2"}));
}

TEST(SpecList, WhitespaceAroundItemsIsTrimmedAndInnerSpaceKept) {
    EXPECT_EQ(values_of(parse_axis("n = 1, 2 ,3 ")), (std::vector<Value>{i64(1), i64(2), i64(3)}));
    EXPECT_EQ(values_of(parse_axis("lr= 0.5 , 1e-2")), (std::vector<Value>{0.5, 1e-2}));
    EXPECT_EQ(values_of(parse_axis("s=hello world, b")), (std::vector<Value>{"hello world", "b"}));
}

TEST(SpecList, QuotedItemsKeepCommasAndSpacesAndAreStrings) {
    EXPECT_EQ(values_of(parse_axis(R"J(msg='a,b',"c d")J")), (std::vector<Value>{"a,b", "c d"}));
    EXPECT_EQ(values_of(parse_axis(R"J(q="it's", 'say "hi"')J")),
              (std::vector<Value>{"it's", R"J(say "hi")J"}));
    EXPECT_EQ(values_of(parse_axis("s=' padded ',''")), (std::vector<Value>{" padded ", ""}));
    Axis quoted_numbers = parse_axis("seed='1','2'");
    EXPECT_EQ(quoted_numbers.type(), ValueType::String);
    EXPECT_EQ(values_of(quoted_numbers), (std::vector<Value>{"1", "2"}));
    EXPECT_EQ(values_of(parse_axis("n:int='1',2")), (std::vector<Value>{i64(1), i64(2)}));
}

TEST(SpecList, ForcedTypesApplyToTheTextAsWritten) {
    EXPECT_EQ(values_of(parse_axis("seed:str=007,1.50")), (std::vector<Value>{"007", "1.50"}));
    EXPECT_EQ(values_of(parse_axis("x:float=1,2")), (std::vector<Value>{1.0, 2.0}));
    EXPECT_EQ(parse_axis("x:float=1,2").type(), ValueType::Float);
    EXPECT_EQ(values_of(parse_axis("n:int=1e3,-2.0")), (std::vector<Value>{i64(1000), i64(-2)}));
    EXPECT_EQ(values_of(parse_axis("b:bool=true,0,1")), (std::vector<Value>{true, false, true}));
    EXPECT_EQ(values_of(parse_axis("n : int = 5")), (std::vector<Value>{i64(5)}));
}

TEST(SpecList, ForcedTypeThatDoesNotConvertNamesTheValue) {
    expect_axis_error("n:int=1,1.5", {"param 'n'", "'1.5'", "int"});
    expect_axis_error("x:float=1,abc", {"param 'x'", "'abc'", "float"});
    expect_axis_error("b:bool=true,yes", {"param 'b'", "'yes'", "bool"});
    expect_axis_error("r:bool=range(0,3)", {"param 'r'", "'2'", "bool"});
    expect_axis_error("x:double=1", {"param 'x'", "unknown type 'double'"});
    expect_axis_error("x:=1", {"param 'x'", "unknown type ''"});
}

TEST(SpecList, IntegersBeyond64BitsAreErrorsNamingTheText) {
    expect_axis_error("n=1,99999999999999999999", {"param 'n'", "'99999999999999999999'", "64 bits"});
    expect_axis_error("x=1e999", {"param 'x'", "'1e999'"});
    // As a string, or forced to float, it is fine.
    EXPECT_EQ(parse_axis("n=a,99999999999999999999").type(), ValueType::String);
    EXPECT_EQ(values_of(parse_axis("n:float=99999999999999999999")), std::vector<Value>{1e20});
}

// ---- syntax errors ----

TEST(SpecSyntax, MissingEqualsEmptyNameAndInvalidNamesAreErrorsNamingTheText) {
    expect_axis_error("lr0.1", {"'lr0.1'", "missing '='"});
    expect_axis_error("=1,2", {"'=1,2'", "empty name"});
    expect_axis_error(":int=1", {"':int=1'", "empty name"});
    expect_axis_error("l-r=1", {"param 'l-r'", "invalid name"});
    expect_axis_error("1x=1", {"param '1x'", "invalid name"});
    expect_axis_error("a b=1", {"param 'a b'", "invalid name"});
    expect_axis_error("a/b=1", {"param 'a/b'", "invalid name"});
}

TEST(SpecSyntax, EmptyAxesAndEmptyItemsAreErrors) {
    expect_axis_error("x=", {"param 'x'", "empty axis"});
    expect_axis_error("x=   ", {"param 'x'", "empty axis"});
    expect_axis_error("x=1,,2", {"param 'x'", "empty value (item 2)", "'1,,2'"});
    expect_axis_error("x=a,b,", {"param 'x'", "empty value (item 3)", "'a,b,'"});
}

TEST(SpecSyntax, BadQuotingIsAnErrorNamingTheText) {
    expect_axis_error("msg='a,b", {"param 'msg'", "unterminated quote", "'a,b"});
    expect_axis_error("msg='a'b,c", {"param 'msg'", "after a closing quote", "'a'b,c"});
}

// ---- functions ----

TEST(SpecFunctions, RangeLinspaceAndLogspaceGiveTheirValues) {
    EXPECT_EQ(values_of(parse_axis("n=range(0,5)")),
              (std::vector<Value>{i64(0), i64(1), i64(2), i64(3), i64(4)}));
    EXPECT_EQ(values_of(parse_axis("n=range( 10 , 0 , -4 )")), (std::vector<Value>{i64(10), i64(6), i64(2)}));
    Axis lin = parse_axis("x=linspace(0,1,5)");
    EXPECT_EQ(lin.kind(), Axis::Kind::Linspace);
    EXPECT_EQ(values_of(lin), (std::vector<Value>{0.0, 0.25, 0.5, 0.75, 1.0}));
    Axis log = parse_axis("lr=logspace(-4,-1,4)");
    EXPECT_EQ(log.kind(), Axis::Kind::Logspace);
    EXPECT_EQ(values_of(log), (std::vector<Value>{1e-4, 1e-3, 1e-2, 1e-1}));
    EXPECT_EQ(values_of(parse_axis("x:int=linspace(0,10,3)")), (std::vector<Value>{i64(0), i64(5), i64(10)}));
    Axis as_float = parse_axis("x:float=range(0,3)");
    EXPECT_EQ(as_float.kind(), Axis::Kind::Range);
    EXPECT_EQ(values_of(as_float), (std::vector<Value>{0.0, 1.0, 2.0}));
}

TEST(SpecFunctions, BadArgumentsAreErrorsNamingTheAxisAndTheText) {
    expect_axis_error("lr=linspace(0,x,3)", {"param 'lr': expected a number in linspace(a,b,n), got 'x'"});
    expect_axis_error("lr=logspace(a,1,3)", {"param 'lr': expected a number in logspace(a,b,n), got 'a'"});
    expect_axis_error("lr=linspace(0,1,0)", {"param 'lr'", "n must be at least 1", "'0'"});
    expect_axis_error("lr=logspace(0,1,-2)", {"param 'lr'", "n must be at least 1", "'-2'"});
    expect_axis_error("lr=linspace(0,1,2.5)", {"param 'lr'", "expected an integer n", "'2.5'"});
    expect_axis_error("n=range(0,1.5)",
                      {"param 'n': expected an integer in range(start,stop[,step]), got '1.5'"});
    expect_axis_error("n=range(0,10,0)", {"param 'n'", "step must not be 0", "'range(0,10,0)'"});
    expect_axis_error("n=range(5,0)", {"param 'n'", "empty axis", "'range(5,0)'"});
    expect_axis_error("n=range(0,5,-1)", {"param 'n'", "empty axis", "'range(0,5,-1)'"});
}

TEST(SpecFunctions, WrongArgumentCountsAreErrorsSayingHowMany) {
    expect_axis_error("n=range(5)",
                      {"param 'n'", "range(start,stop[,step]) takes 2 or 3 arguments, got 1", "'range(5)'"});
    expect_axis_error("n=range()", {"param 'n'", "got 0", "'range()'"});
    expect_axis_error("n=range(1,2,3,4)", {"param 'n'", "got 4"});
    expect_axis_error("x=linspace(0,1)",
                      {"param 'x'", "linspace(a,b,n) takes 3 arguments, got 2", "'linspace(0,1)'"});
    expect_axis_error("x=logspace(0,1,2,3)", {"param 'x'", "takes 3 arguments, got 4"});
    expect_axis_error("f=files(data)", {"param 'f'", "files takes 2 arguments", "'files(data)'"});
}

TEST(SpecFunctions, UnknownFunctionAndMissingParenthesisAreErrors) {
    expect_axis_error("x=arange(0,3)", {"param 'x'", "unknown function 'arange'", "'arange(0,3)'"});
    expect_axis_error("x=range(0,3", {"param 'x'", "missing ')'", "'range(0,3'"});
    // A quoted value may look like a call.
    EXPECT_EQ(values_of(parse_axis("x='f(1)'")), std::vector<Value>{"f(1)"});
}

// ---- files(DIR,REGEX) ----

class SpecFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("mpisweep_spec_files_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        for (auto rel : {"b.txt", "a.txt", "notes.csv", "sub/c.txt", "sub/deeper/d.txt", "sub/e.csv",
                         "z/a1.txt", "z/a22.txt"}) {
            fs::create_directories((dir_ / rel).parent_path());
            std::ofstream(dir_ / rel) << rel;
        }
        fs::create_directories(dir_ / "empty_dir.txt");  // a directory, not a file
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& rel) const { return (dir_ / rel).generic_string(); }
    fs::path dir_;
};

TEST_F(SpecFiles, MatchesRegularFilesRecursivelyByRelativePathSorted) {
    Axis axis = parse_axis("f=files(" + dir_.string() + ",.*\\.txt)");
    EXPECT_EQ(axis.type(), ValueType::String);
    EXPECT_EQ(values_of(axis),
              (std::vector<Value>{path("a.txt"), path("b.txt"), path("sub/c.txt"), path("sub/deeper/d.txt"),
                                  path("z/a1.txt"), path("z/a22.txt")}));
}

TEST_F(SpecFiles, RegexMustMatchTheWholeRelativePathAndMayContainCommas) {
    EXPECT_EQ(values_of(parse_axis("f=files(" + dir_.string() + ",[a-z]+\\.csv)")),
              std::vector<Value>{path("notes.csv")});
    EXPECT_EQ(values_of(parse_axis("f=files(" + dir_.string() + ",sub/.*)")),
              (std::vector<Value>{path("sub/c.txt"), path("sub/deeper/d.txt"), path("sub/e.csv")}));
    EXPECT_EQ(values_of(parse_axis("f=files(" + dir_.string() + ",z/a[0-9]{2,3}\\.txt)")),
              std::vector<Value>{path("z/a22.txt")});
}

TEST_F(SpecFiles, MissingDirectoryNoMatchAndBadRegexAreErrorsNamingThem) {
    auto missing = (dir_ / "nope").string();
    expect_axis_error("f=files(" + missing + ",.*)",
                      {"param 'f'", "directory '" + missing + "' does not exist"});
    expect_axis_error("f=files(" + dir_.string() + ",.*\\.json)", {"param 'f'", "empty axis", ".*\\.json"});
    expect_axis_error("f=files(" + dir_.string() + ",a)", {"param 'f'", "empty axis"});  // 'a' is not 'a.txt'
    expect_axis_error("f=files(" + dir_.string() + ",(a)", {"param 'f'", "invalid regex '(a'"});
    expect_axis_error("f=files(" + path("a.txt") + ",.*)", {"param 'f'", "is not a directory"});
}

// ---- grids from text ----

TEST(SpecGrid, ParamsInOrderWithZipGroups) {
    Grid grid = parse_grid({"a=1,2,3", "lr=logspace(-3,-1,3)", "opt=adam,sgd"}, {"lr, a"});
    EXPECT_EQ(grid.names(), (std::vector<std::string>{"a", "lr", "opt"}));
    EXPECT_EQ(grid.size(), 6u);
    Point p = grid.at(TaskId{3});  // zip index 1, opt index 1
    EXPECT_EQ(p.get<std::int64_t>("a"), 2);
    EXPECT_EQ(p.get<double>("lr"), 1e-2);
    EXPECT_EQ(p.get<std::string>("opt"), "sgd");
}

TEST(SpecGrid, DuplicateNamesAndZipMistakesAreErrorsNamingTheParams) {
    EXPECT_TRUE(contains(spec_error([] { parse_grid({"lr=1", "lr=2"}, {}); }), "param 'lr' is given twice"));
    EXPECT_TRUE(contains(spec_error([] { parse_grid({"a=1,2", "b=3,4"}, {"a,zz"}); }), "unknown param 'zz'"));
    EXPECT_TRUE(contains(spec_error([] { parse_grid({"a=1,2", "b=3,4"}, {"a"}); }), "at least two params"));
    EXPECT_TRUE(contains(spec_error([] {
                             parse_grid({"a=1,2", "b=3,4"}, {"a,"});
                         }),
                         "zip 'a,': empty param name"));
    EXPECT_TRUE(contains(spec_error([] {
                             parse_grid({"a=1,2", "b=3,4", "c=5,6"}, {"a,b", "c,a"});
                         }),
                         "param 'a' is already zipped"));
    auto unequal = spec_error([] { parse_grid({"a=1,2", "b=3,4,5"}, {"a,b"}); });
    EXPECT_TRUE(contains(unequal, "a has 2"));
    EXPECT_TRUE(contains(unequal, "b has 3"));
}

TEST(SpecGrid, OverflowIsCheckedAfterZipsSoOnlyATrueOverflowFails) {
    std::string big = "range(0,1099511627776)";  // 2^40
    EXPECT_EQ(parse_grid({"a=" + big, "b=" + big}, {"a,b"}).size(), 1099511627776u);
    auto message = spec_error([&] { parse_grid({"a=" + big, "b=" + big}, {}); });
    EXPECT_TRUE(contains(message, "overflows 64 bits"));
    EXPECT_TRUE(contains(message, "b=1099511627776"));
}

// ---- JSON ----

TEST(SpecJson, ArraysSpecStringsTypedObjectsAndZipsInDocumentOrder) {
    Grid grid = parse_grid_json(R"J({
        "params": {
            "z": [0.1, 0.01],
            "n": "range(1,10,4)",
            "seed": {"type": "str", "values": [1, 2]},
            "steps": {"spec": "linspace(0,10,2)", "type": "int"},
            "flag": [true, false],
            "opt": ["adam", "sgd"],
            "one": 7
        },
        "zip": [["flag", "opt"]]
    })J");
    EXPECT_EQ(grid.names(), (std::vector<std::string>{"z", "n", "seed", "steps", "flag", "opt", "one"}));
    const auto& axes = grid.axes();
    EXPECT_EQ(values_of(axes[0]), (std::vector<Value>{0.1, 0.01}));
    EXPECT_EQ(values_of(axes[1]), (std::vector<Value>{i64(1), i64(5), i64(9)}));
    EXPECT_EQ(values_of(axes[2]), (std::vector<Value>{"1", "2"}));
    EXPECT_EQ(values_of(axes[3]), (std::vector<Value>{i64(0), i64(10)}));
    EXPECT_EQ(values_of(axes[4]), (std::vector<Value>{true, false}));
    EXPECT_EQ(values_of(axes[5]), (std::vector<Value>{"adam", "sgd"}));
    EXPECT_EQ(values_of(axes[6]), std::vector<Value>{i64(7)});
    EXPECT_EQ(grid.zip_groups(), (std::vector<std::vector<std::size_t>>{{4, 5}}));
    EXPECT_EQ(grid.size(), 2u * 3 * 2 * 2 * 2);
    EXPECT_EQ(parse_grid_json(R"J({"params": {"a": [1,2], "b": [3,4]}, "zip": ["a, b"]})J").size(), 2u);
}

TEST(SpecJson, JsonStringsStayStringsAndMixedValuesBecomeStrings) {
    Grid grid =
        parse_grid_json(R"J({"params": {"s": {"values": ["1", "2"]}, "m": ["a", 1, true], "f": [1, 2.5]}})J");
    EXPECT_EQ(values_of(grid.axes()[0]), (std::vector<Value>{"1", "2"}));
    EXPECT_EQ(values_of(grid.axes()[1]), (std::vector<Value>{"a", "1", "true"}));
    EXPECT_EQ(values_of(grid.axes()[2]), (std::vector<Value>{1.0, 2.5}));
}

TEST(SpecJson, BadJsonGivesTheLineAndColumn) {
    auto message = spec_error([] { parse_grid_json("{\n  \"params\": {\"a\": [1, 2,]}\n}"); });
    EXPECT_TRUE(contains(message, "JSON spec"));
    EXPECT_TRUE(contains(message, "line 2"));
    EXPECT_TRUE(contains(message, "column"));
    EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
}

TEST(SpecJson, StructuralMistakesAreErrorsNamingTheKeyOrParam) {
    auto error = [](const std::string& doc) { return spec_error([&] { parse_grid_json(doc); }); };
    EXPECT_TRUE(contains(error("[1, 2]"), "expected an object"));
    EXPECT_TRUE(contains(error(R"J({"zip": []})J"), "missing \"params\""));
    EXPECT_TRUE(contains(error(R"J({"params": {}, "parms": {}})J"), "unknown key 'parms'"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": [1], "a": [2]}})J"), "key 'a' appears twice"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": null}})J"), "param 'a'"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": [1, null]}})J"), "param 'a': value 2 is null"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": []}})J"), "param 'a': empty axis"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": {"values": [1], "typ": "str"}}})J"),
                         "param 'a': unknown key 'typ'"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": {"type": "str"}}})J"), "param 'a': give exactly one of"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": {"values": ["x"], "type": "int"}}})J"),
                         "param 'a': value 'x' does not convert to int"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a-b": [1]}})J"), "param 'a-b': invalid name"));
    EXPECT_TRUE(contains(error(R"J({"params": {"lr": "linspace(0,x,3)"}})J"),
                         "param 'lr': expected a number in linspace(a,b,n), got 'x'"));
    EXPECT_TRUE(
        contains(error(R"J({"params": {"a": [1,2], "b": [1,2,3]}, "zip": [["a","b"]]})J"), "b has 3"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": [1,2]}, "zip": [["a","q"]]})J"), "unknown param 'q'"));
    EXPECT_TRUE(contains(error(R"J({"params": {"a": [18446744073709551615]}})J"), "'18446744073709551615'"));
}

TEST(SpecJson, TextAndJsonGiveTheSameCanonicalFormForEqualAxes) {
    Grid from_text = parse_grid({"lr=0.1,0.01", "n=1,2", "s=a,b", "b=true,false", "x=1,2.5", "r=range(0,5)",
                                 "seed:str=1,2", "w=1.0,2.0"},
                                {"n,s"});
    Grid from_json = parse_grid_json(R"J({"params": {"lr": [0.1, 0.01], "n": [1, 2], "s": ["a", "b"],
        "b": [true, false], "x": [1, 2.5], "r": "range(0,5)", "seed": {"type": "str", "values": [1, 2]},
        "w": [1.0, 2.0]}, "zip": [["s", "n"]]})J");
    EXPECT_EQ(from_text.to_json(), from_json.to_json());
    EXPECT_NE(from_text.to_json(), parse_grid({"lr=0.1,0.01"}, {}).to_json());
}

TEST(SpecJson, CanonicalFormReadsBackToAnIdenticalGrid) {
    Grid grid =
        parse_grid({"lr=0.1,0.3333333333333333,1e-300", "n=range(9223372036854775806,9223372036854775807)",
                    "m=range(10,-10,-7)", "x=linspace(0.1,0.7,4)", "y:str=logspace(-2,0,3)",
                    "f:float=range(0,3)", "s='a,b',c", "b=true,false", "k=1,2,3,4"},
                   {"x,k"});
    std::string canonical = grid.to_json();
    Grid back = parse_grid_json(canonical);
    EXPECT_EQ(back.to_json(), canonical);
    ASSERT_EQ(back.size(), grid.size());
    for (std::uint64_t id = 0; id < grid.size(); ++id) {
        ASSERT_EQ(back.at(TaskId{id}).values(), grid.at(TaskId{id}).values()) << id;
    }
    auto doc = nlohmann::json::parse(canonical);
    doc["axes"][0]["size"] = 4;
    EXPECT_TRUE(contains(spec_error([&] { parse_grid_json(doc.dump()); }), "param 'lr': \"size\" is 4"));
}

}  // namespace
}  // namespace mpisweep
