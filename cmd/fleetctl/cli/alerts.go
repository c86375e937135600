package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/fleetctl/fleetctl/provision"
	ucli "github.com/urfave/cli/v2"
)

// alertsCommand groups the commands about alert delivery.
func alertsCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "alerts",
		Usage: "alert delivery: test a route's handlers",
		Subcommands: []*ucli.Command{{
			Name:  "test",
			Usage: "send a test notification through a route (or every route of a host) and say whether each handler's service accepted it",
			Flags: []ucli.Flag{inventoryFlag(),
				&ucli.StringFlag{Name: "route", Usage: "the contact (route) to test"},
				&ucli.StringFlag{Name: "host", Usage: "test every route of this inventory host"}},
			Action: func(c *ucli.Context) error {
				if err := noArgs(c, io); err != nil {
					return err
				}
				route, host := c.String("route"), c.String("host")
				if (route == "") == (host == "") {
					return withCode(ExitUsage, errors.New("alerts test needs exactly one of --route NAME or --host NAME"))
				}
				res, err := provision.TestDelivery(c.Context, provision.Options{InventoryPath: c.String("inventory"), Getenv: io.Getenv}, route, host)
				if err != nil {
					return withCode(ExitError, err)
				}
				tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ROUTE\tKIND\tSERVICE TEST\tRESULT\tMESSAGE")
				refused := 0
				for _, d := range res {
					result, service := "accepted", d.Service
					switch {
					case d.Service == "":
						result, service = "not tested", "-"
					case !d.Accepted:
						result = "refused"
						refused++
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Route, d.Kind, service, result, d.Message)
				}
				tw.Flush()
				if refused > 0 {
					return withCode(ExitError, fmt.Errorf("%d of %d handlers refused the test notification", refused, len(res)))
				}
				return nil
			},
		}},
	}
}
