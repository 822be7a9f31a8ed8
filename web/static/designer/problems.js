// The problems of a validation or a refused deploy, as a list; each item leads to its element.

import { node } from "./dom.js";

export function problemList(testid) {
  return node("ul", { className: "problem-list", "data-testid": testid });
}

/**
 * Fill `list` with `problems` ({code, message, file, element_id, severity}); `empty` is the text
 * shown when there are none. Clicking a problem that names a file calls onSelect(problem).
 */
export function renderProblems(list, problems, { t, empty, onSelect }) {
  if (!problems.length) {
    list.replaceChildren(node("li", { className: "empty", text: empty }));
    return;
  }
  list.replaceChildren(
    ...problems.map((problem) => {
      const place = [problem.file, problem.element_id].filter(Boolean).join(" · ");
      const parts = [
        node("span", { className: "severity", text: t(problem.severity === "error" ? "error" : "warning") }),
        node("span", { className: "message", text: problem.message }),
        place ? node("span", { className: "place", text: place }) : null,
      ];
      const body = problem.file
        ? node("button", { type: "button", className: "problem-link" }, parts)
        : node("span", {}, parts);
      if (problem.file) body.addEventListener("click", () => onSelect(problem));
      return node(
        "li",
        {
          className: `problem ${problem.severity === "error" ? "error" : "warning"}`,
          "data-testid": "problem",
          "data-code": problem.code,
          "data-element-id": problem.element_id || "",
          "data-file": problem.file || "",
          "data-severity": problem.severity,
        },
        [body],
      );
    }),
  );
}
