// Placeholder until the translated runner (bt/) lands: it fails loudly, so that nothing passes
// by accident. The lead replaces this file.
#include <gtest/gtest.h>

#include "harness.h"

namespace difftest {
namespace {

class MissingTranslatedRunner final : public Runner {
 public:
  const char* name() const override { return "translated (missing)"; }
  Outcome run(const TestCase&) override {
    // A fatal failure: the harness stops the class at the first case.
    [] { FAIL() << "translated runner not implemented"; }();
    return {};
  }
};

}  // namespace

std::unique_ptr<Runner> make_translated_runner() {
  return std::make_unique<MissingTranslatedRunner>();
}

}  // namespace difftest
