// Package views renders a plan.Plan and an apply's plan.Outcome for people and programs: text for a terminal (colour
// only when asked), markdown for a pull-request comment, and versioned JSON. Views import only the model and only
// format; every decision was made in the plan.
package views
