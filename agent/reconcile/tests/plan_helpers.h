// What the planner tests read out of a plan: the actions of one kind, and every action as its log line.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "reconcile/plan.h"
#include "reconcile/planner.h"

namespace nwg::reconcile::plan_test {

template <typename T>
std::vector<const T*> all(const HubPlan& plan) {
  std::vector<const T*> out;
  for (const auto& a : plan.actions) {
    if (auto* t = std::get_if<T>(&a)) out.push_back(t);
  }
  return out;
}

inline std::vector<std::string> lines(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(describe(a));
  return out;
}

}  // namespace nwg::reconcile::plan_test
