// Package views renders a plan.Plan for people and programs: text for a terminal (colour only when asked), markdown
// for a pull-request comment, and versioned JSON. Views only format; every decision was made in the plan.
package views
